//go:build purego

package kernels

// pureGoBuild makes the references the default path (see defaultPathIndex).
const pureGoBuild = true
