package kernels

// The portable Go fast path: every entry point (quantizeActsPortable,
// i2sRowsPortable, denseRowsPortable, dotRowsPortable,
// weightedSumPortable, in the portable_*.go files by concern) computes
// its reference's result bit for bit, reached through the fallbacks of
// portable.go when usePortable is set.
