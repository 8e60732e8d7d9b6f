// Command benchtable reads `go test -bench` output on standard input (or from the files named as arguments) and
// prints the markdown table of binlake's benchmark figures: figure | value | target | setup.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/binlake/binlake/internal/benchtable"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(files []string, stdin io.Reader, stdout io.Writer) error {
	in := stdin
	if len(files) > 0 {
		readers := make([]io.Reader, 0, len(files))
		for _, name := range files {
			f, err := os.Open(name)
			if err != nil {
				return fmt.Errorf("opening benchmark output: %w", err)
			}
			defer func() { _ = f.Close() }()
			readers = append(readers, f)
		}
		in = io.MultiReader(readers...)
	}
	out, err := benchtable.Parse(in)
	if err != nil {
		return err
	}
	if err := benchtable.Markdown(stdout, benchtable.Rows(out, benchtable.Figures)); err != nil {
		return fmt.Errorf("writing the table: %w", err)
	}
	for _, f := range out.Failures {
		if _, err := fmt.Fprintln(stdout, "\nbenchmark failure:", f); err != nil {
			return fmt.Errorf("writing the table: %w", err)
		}
	}
	return nil
}
