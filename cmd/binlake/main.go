// Command binlake is the one binary: the worker and its helpers.
//
//	binlake worker [flags]   run a standalone worker (REST API, connectors)
//	binlake docs config      print the connector config reference (docs/config.md)
//	binlake version          print the version and commit
package main

import (
	"fmt"
	"os"
)

//go:generate sh -c "go run . docs config > ../../docs/config.md"

// Set by the linker: -X main.version=... -X main.commit=...
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes a command line and returns the exit code.
func run(args []string) int {
	if len(args) < 1 {
		usage()
		return 2
	}
	switch args[0] {
	case "version":
		fmt.Printf("binlake %s (commit %s)\n", version, commit)
		return 0
	case "worker":
		return runWorker(args[1:], os.Getenv)
	case "verify":
		return runVerify(args[1:], os.Getenv, os.Stdout, os.Stderr)
	case "docs":
		if len(args) != 2 || args[1] != "config" {
			fmt.Fprintln(os.Stderr, "usage: binlake docs config > docs/config.md")
			return 2
		}
		if err := writeConfigDocs(os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "binlake:", err)
			return 1
		}
		return 0
	case "help", "-h", "--help":
		usage()
		return 0
	default:
		usage()
		return 2
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: binlake <command> [flags]

commands:
  worker        run a standalone worker (binlake worker -h for its flags)
  verify        compare MySQL tables with their lake tables (binlake verify -h for its flags)
  docs config   print the connector configuration reference (Markdown)
  version       print the version and commit
`)
}
