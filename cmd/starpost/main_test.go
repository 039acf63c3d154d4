package main

import (
	"os"
	"testing"
)

// TestMain lets benchmarks started from tests spawn this test binary as
// their server: with childEnv set it runs the starpost command named by its
// arguments instead of the tests.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
