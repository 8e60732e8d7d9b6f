// Command sampledb is the quick start's helper (deploy/local/quickstart.sh):
// it generates the sample database "shop", makes live changes to it, and
// watches a binlake worker replicate it into the lake.
//
//	sampledb load  [flags]  create shop and load about -rows rows (reused when it already holds exactly that)
//	sampledb live  [flags]  make inserts, updates and deletes at -rate transactions/s for -duration
//	sampledb watch [flags]  print snapshot and lake progress until the lake caught up with the source
//	sampledb topics [flags] create the source's topics ahead of it
//
// Every subcommand takes -mysql (a go-sql-driver DSN without database) and
// the ones that talk to the worker -rest (its base URL).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "load":
		err = runLoad(ctx, os.Args[2:])
	case "live":
		err = runLive(ctx, os.Args[2:])
	case "watch":
		err = runWatch(ctx, os.Args[2:])
	case "topics":
		err = runTopics(ctx, os.Args[2:])
	case "-h", "--help", "help":
		usage()
		return
	default:
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sampledb:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: sampledb load|live|watch|topics [flags]   (sampledb <command> -h lists the flags)
`)
}

// common holds the flags every subcommand shares.
type common struct {
	dsn  string
	db   string
	rest string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.dsn, "mysql", "root:binlake@tcp(127.0.0.1:3306)/", "MySQL DSN (go-sql-driver form, no database)")
	fs.StringVar(&c.db, "database", "shop", "the sample database")
	fs.StringVar(&c.rest, "rest", "http://127.0.0.1:8082", "the binlake worker's REST base URL")
}

// since formats the time since start as a short elapsed field.
func since(start time.Time) string {
	return fmt.Sprintf("%4.0fs", time.Since(start).Seconds())
}

// thousands formats n with thousands separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
