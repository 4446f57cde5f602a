package jobfs

import "time"

// TrustDirectoriesFor sets how long a held directory is trusted on a miss,
// for tests that replace directories behind a mount's back.
func TrustDirectoriesFor(d time.Duration) (restore func()) {
	old := trustFor
	trustFor = d
	return func() { trustFor = old }
}

// MaxDirs is how many directory handles a mount holds at most.
const MaxDirs = maxDirs
