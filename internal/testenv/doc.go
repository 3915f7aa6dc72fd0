// Package testenv gives tests the outside programs and servers scripts/testenv.sh
// provides: [Require] reads the variable naming one (skipping the test when it is unset,
// failing it when PAVED_TEST_REQUIRE_SERVERS=1, as in CI), and [StartPrometheus] runs a
// real Prometheus on loopback with a given configuration for the length of a test.
//
// It is for tests only; nothing in the module's non-test code imports it.
package testenv
