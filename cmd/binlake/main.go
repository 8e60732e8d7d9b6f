// Command binlake is the one binary: the worker and its helpers.
package main

import (
	"fmt"
	"os"
)

// Set by the linker: -X main.version=... -X main.commit=...
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	switch os.Args[1] {
	case "version":
		fmt.Printf("binlake %s (commit %s)\n", version, commit)
	default:
		usage()
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: binlake <command>\n\ncommands:\n  version   print the version and commit")
}
