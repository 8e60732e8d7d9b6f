package main

// The plugins and table formats compiled into the binary register
// themselves from their init funcs.
import (
	_ "github.com/binlake/binlake/sink/lake"
	_ "github.com/binlake/binlake/sink/lake/hudi"
	_ "github.com/binlake/binlake/sink/lake/iceberg"
	_ "github.com/binlake/binlake/source/mysql"
)
