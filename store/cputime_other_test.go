//go:build !unix

package store_test

import "time"

// processCPU is unknown here; benchmarks then report 0.
func processCPU() time.Duration { return 0 }

// processWritten is unknown here; benchmarks then report 0.
func processWritten() int64 { return 0 }
