package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"net/netip"
	"strings"
	texttemplate "text/template"

	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/templates"
)

// Formats are the output formats of Render.
var Formats = []string{"text", "json", "html"}

func funcs() map[string]any {
	return map[string]any{
		"join": strings.Join,
		"add":  func(a, b int) int { return a + b },
		"sub":  func(a, b int) int { return a - b },
		"mul":  func(a, b int) int { return a * b },
		// pfxkey is a sort key of a prefix that orders as routing.ComparePrefix does
		// (family, address, length) under plain string comparison, for the page's
		// table sorting (a prefix is not a number: "192.0.2.0/24" would parse as 192).
		"pfxkey": func(p netip.Prefix) string {
			if !p.IsValid() {
				return ""
			}
			fam := "4"
			if p.Addr().Is6() {
				fam = "6"
			}
			return fmt.Sprintf("%s%x%02x", fam, p.Addr().AsSlice(), p.Bits())
		},
		// asnkey orders ASNs numerically under string comparison.
		"asnkey": func(a routing.ASN) string { return fmt.Sprintf("%010d", uint32(a)) },
		// svgw scales n of total to a bar width.
		"svgw": func(n, total, width int) int {
			if total <= 0 {
				return 0
			}
			return n * width / total
		},
	}
}

// Render writes the report as text, JSON or a self-contained HTML page; the text and
// HTML layouts are templates/report/*.tmpl.
func Render(rep *Report, format string) ([]byte, error) {
	var buf bytes.Buffer
	switch format {
	case "json":
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return nil, err
		}
	case "text", "":
		t, err := texttemplate.New("report.txt.tmpl").Funcs(funcs()).ParseFS(templates.FS, "report/report.txt.tmpl")
		if err != nil {
			return nil, err
		}
		if err := t.Execute(&buf, rep); err != nil {
			return nil, err
		}
	case "html":
		t, err := htmltemplate.New("report.html.tmpl").Funcs(funcs()).ParseFS(templates.FS, "report/report.html.tmpl")
		if err != nil {
			return nil, err
		}
		if err := t.Execute(&buf, newHTMLView(rep, HTMLConflictsPerKind)); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("report: unknown format %q (text, json, html)", format)
	}
	return buf.Bytes(), nil
}

// HTMLConflictsPerKind bounds the conflicts the HTML page lists per kind: a large
// cone has hundreds of thousands (a 166 MB page no browser opens), and the first
// thousand of a kind show the pattern. The page says how many more there are; the JSON
// report lists every one.
const HTMLConflictsPerKind = 1000

// htmlView is what the HTML template executes on: the report, with Conflicts cut to
// the first perKind of each kind and the count of the rest in ConflictsMore.
type htmlView struct {
	*Report
	Conflicts     []Conflict
	ConflictsMore []ConflictsMore
}

// ConflictsMore counts the conflicts of one kind the HTML page does not list.
type ConflictsMore struct {
	Kind        string
	More, Total int
}

func newHTMLView(rep *Report, perKind int) htmlView {
	v := htmlView{Report: rep}
	n := map[string]int{}
	var kinds []string
	for _, c := range rep.Conflicts {
		if n[c.Kind] == 0 {
			kinds = append(kinds, c.Kind)
		}
		n[c.Kind]++
		if n[c.Kind] <= perKind {
			v.Conflicts = append(v.Conflicts, c)
		}
	}
	for _, k := range kinds {
		if n[k] > perKind {
			v.ConflictsMore = append(v.ConflictsMore, ConflictsMore{Kind: k, More: n[k] - perKind, Total: n[k]})
		}
	}
	return v
}

// IndexEntry is one customer of a generate --report index page.
type IndexEntry struct {
	Name string
	// Page is the customer's page relative to the index ("NAME/report.html").
	Page   string
	Report *Report
}

// RenderIndex writes the index page of generate --report (templates/report/index.html.tmpl).
func RenderIndex(entries []IndexEntry) ([]byte, error) {
	t, err := htmltemplate.New("index.html.tmpl").Funcs(funcs()).ParseFS(templates.FS, "report/index.html.tmpl")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, entries); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
