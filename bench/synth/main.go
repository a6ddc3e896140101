// Command synth writes a synthetic IRR registry (see internal/synth) for benchmarks:
//
//	go run ./bench/synth -asns 50000 -routes 1000000 -subsets 500 -o FILE
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/bgpfilter/bgpfilter/internal/synth"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	var p synth.Params
	fs.IntVar(&p.ASNs, "asns", 5000, "number of ASNs")
	fs.IntVar(&p.Routes, "routes", 100000, "number of IPv4 /24 route objects")
	fs.IntVar(&p.V6Routes, "v6routes", 0, "number of IPv6 /48 route6 objects")
	fs.IntVar(&p.SubSets, "subsets", 50, "number of sub-sets of AS-BIG")
	first := fs.Uint("first-asn", 131072, "first ASN")
	fs.StringVar(&p.Source, "source", "SYNTH", "IRR source name")
	out := fs.String("o", "-", "output file (- for stdout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *first == 0 || *first > 4199999999 {
		return fmt.Errorf("-first-asn %d out of range", *first)
	}
	p.FirstASN = uint32(*first)
	if *out == "-" {
		return synth.Write(stdout, p)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := synth.Write(f, p); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
