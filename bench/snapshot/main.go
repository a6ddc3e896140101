// Command snapshot loads RPSL files and writes the binary snapshot of the resulting
// index (see irr.WriteSnapshot), which `bgpfilter --irr FILE` then loads without
// parsing RPSL:
//
//	go run ./bench/snapshot -o FILE.snap FILE.db [FILE.db ...]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/bgpfilter/bgpfilter/internal/atomicfile"
	"github.com/bgpfilter/bgpfilter/irr"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "snapshot:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("snapshot", flag.ContinueOnError)
	out := fs.String("o", "", "output file")
	strict := fs.Bool("strict", false, "fail on the first malformed object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		return fmt.Errorf("usage: snapshot -o OUT FILE...")
	}
	ix, rep, err := irr.Load(context.Background(), fs.Args(), irr.LoadOptions{Strict: *strict})
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := ix.WriteSnapshot(&b); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: %d bytes, objects %v, %d malformed skipped\n", *out, b.Len(), rep.Objects, rep.Skipped)
	return nil
}
