// Package dockerfile reads what a Dockerfile says about the image it builds: its stages
// and, for the final stage, the user, exposed ports, entrypoint, labels, environment
// and volumes, with ARG defaults substituted. Paved's tests hold every Dockerfile the
// project ships or `paved new` writes to the image policy with it (static binary,
// numeric non-root user, the service's ports, OCI labels), and give its final stage to
// the daemonless image build of CI, so the two images agree.
//
// It reads the instructions Paved's Dockerfiles use; it is not a builder. Functions
// here keep no state and are safe for concurrent use.
package dockerfile
