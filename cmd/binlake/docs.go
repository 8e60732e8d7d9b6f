package main

import (
	"io"

	"github.com/binlake/binlake/connect/plugin"
)

// writeConfigDocs renders docs/config.md from every registered plugin.
func writeConfigDocs(w io.Writer) error { return plugin.WriteMarkdown(w, plugin.All()) }
