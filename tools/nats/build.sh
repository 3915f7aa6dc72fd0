#!/bin/sh
# Builds the NATS server (github.com/nats-io/nats-server/v2, pinned in ./go.mod) into the
# cache and prints its path (../build.sh); a few minutes on 2 cores the first time,
# instant afterwards.
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../build.sh" "$here" nats-server github.com/nats-io/nats-server/v2
