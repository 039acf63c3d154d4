package text

import "os"

// dataRoot returns the shared evaluation data folder (STARPOST_DATA or
// /work/shared/data).
func dataRoot() string {
	if d := os.Getenv("STARPOST_DATA"); d != "" {
		return d
	}
	return "/work/shared/data"
}
