#!/bin/sh
# Builds the Consul agent (github.com/hashicorp/consul, pinned in ./go.mod) into the
# cache and prints its path (../build.sh); several minutes on 2 cores the first time,
# instant afterwards.
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../build.sh" "$here" consul github.com/hashicorp/consul
