//go:build !linux

package runtime

// readFits is false where reading has not been measured to pay and free
// memory is not looked up: the file is mapped.
func readFits(string) bool { return false }
