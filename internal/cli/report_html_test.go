package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// reportFixtureAnnouncements are announcements of the examples/irr cone AS-EXAMPLE in
// pfx2as form, chosen to hit every IRR state (exact, covered, other-origin, none), the
// three RPKI states against examples/rpki, and each announced-side conflict kind.
const reportFixtureAnnouncements = `192.0.2.0	25	64496
192.0.2.0	26	64496
198.51.100.0	24	64497
198.51.100.128	25	64497
198.51.100.0	25	64498
203.0.113.0	26	65536
203.0.113.64	26	64499
203.0.113.128	26	65537
203.0.113.192	27	64498
203.0.113.0	24	64497
2001:db8:100::	48	64496
2001:db8:9999::	48	64499
2001:db8:2000::	48	65537
192.0.2.0	24	64511
`

// jsonReport is the part of the JSON report the page is compared with (decoded
// here independently of the report package's types).
type jsonReport struct {
	Title     string           `json:"title"`
	ConeASNs  int              `json:"cone_asns"`
	Totals    map[string]any   `json:"totals"`
	Origins   []map[string]any `json:"origins"`
	Conflicts []struct {
		Kind   string `json:"kind"`
		Prefix string `json:"prefix"`
		Origin uint32 `json:"origin"`
		Detail string `json:"detail"`
	} `json:"conflicts"`
}

// TestReportHTMLInChromium renders the report as JSON and as HTML (report --format html
// -o FILE) and opens the page in headless Chromium through the DevTools protocol: the
// page makes no request besides itself, logs no console error or exception, its
// title, totals and table rows equal the JSON report, the SVG bars have the widths the
// JSON figures give, a screenshot shows the bars, and clicking column headings sorts
// the tables (ascending, then descending) in the order computed here.
func TestReportHTMLInChromium(t *testing.T) {
	dir := t.TempDir()
	ann := filepath.Join(dir, "ann.pfx2as")
	if err := os.WriteFile(ann, []byte(reportFixtureAnnouncements), 0o644); err != nil {
		t.Fatal(err)
	}
	root := peer.RepoRoot(t)
	base := []string{"bgpfilter", "--quiet", "--irr", filepath.Join(root, "examples", "irr"),
		"--rpki", filepath.Join(root, "examples", "rpki", "vrps.json"), "report", "AS-EXAMPLE", "--announcements", ann}
	var jout, errb bytes.Buffer
	if code := Run(context.Background(), append(slices.Clone(base), "--format", "json"), &jout, &errb); code != ExitOK {
		t.Fatalf("report json: exit %d: %s", code, errb.String())
	}
	var want jsonReport
	if err := json.Unmarshal(jout.Bytes(), &want); err != nil {
		t.Fatal(err)
	}
	if want.Totals["announced"].(float64) != 13 || len(want.Conflicts) < 5 {
		t.Fatalf("fixture report too small to test the page: %s", jout.String())
	}
	page := filepath.Join(dir, "report.html")
	if code := Run(context.Background(), append(slices.Clone(base), "--format", "html", "-o", page), &jout, &errb); code != ExitOK {
		t.Fatalf("report html: exit %d: %s", code, errb.String())
	}

	ch := peer.StartChromium(t, filepath.Join(dir, "chromium-profile"))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s, err := ch.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"Page.enable", "Runtime.enable", "Network.enable", "Log.enable"} {
		if err := ch.Call(ctx, s, m, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := ch.Call(ctx, s, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1200, "height": 1600, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		t.Fatal(err)
	}
	url := "file://" + page
	if err := ch.Call(ctx, s, "Page.navigate", map[string]any{"url": url}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.WaitEvent(ctx, s, "Page.loadEventFired"); err != nil {
		t.Fatal(err)
	}

	// The page as loaded equals the JSON report.
	var title string
	if err := ch.Eval(ctx, s, "document.title", &title); err != nil {
		t.Fatal(err)
	}
	if title != want.Title || !strings.Contains(title, "AS-EXAMPLE") {
		t.Errorf("title %q, JSON title %q", title, want.Title)
	}
	var cone string
	if err := ch.Eval(ctx, s, `document.getElementById("cone").textContent`, &cone); err != nil {
		t.Fatal(err)
	}
	if cone != strconv.Itoa(want.ConeASNs) {
		t.Errorf("cone %q, JSON %d", cone, want.ConeASNs)
	}
	var totals map[string]string
	if err := ch.Eval(ctx, s, `(function(){var t=document.getElementById("totals"),h=t.rows[0].cells,v=t.rows[1].cells,o={};
		for(var i=0;i<h.length;i++)o[h[i].textContent]=v[i].textContent;return o;})()`, &totals); err != nil {
		t.Fatal(err)
	}
	if len(totals) != 10 {
		t.Errorf("totals table has %d columns: %v", len(totals), totals)
	}
	for k, v := range totals {
		if v != jsonField(k, want.Totals[k]) {
			t.Errorf("totals %s: page %q, JSON %v", k, v, want.Totals[k])
		}
	}
	origins := tableRows(t, ch, ctx, s, "origins")
	if len(origins) != len(want.Origins) {
		t.Fatalf("origins table has %d rows, JSON %d", len(origins), len(want.Origins))
	}
	cols := []string{"asn", "announced", "irr_exact", "irr_covered", "irr_other_origin", "irr_none", "rpki_valid", "rpki_invalid", "rpki_not_found", "m7irr", "m7rpki"}
	for i, o := range want.Origins {
		for j, c := range cols {
			w := jsonField(c, o[c])
			if c == "asn" {
				w = "AS" + w
			}
			if origins[i][j] != w {
				t.Errorf("origins row %d %s: page %q, JSON %q", i, c, origins[i][j], w)
			}
		}
	}
	var conflicts [][]string
	for _, c := range want.Conflicts {
		conflicts = append(conflicts, []string{c.Kind, c.Prefix, "AS" + strconv.FormatUint(uint64(c.Origin), 10), c.Detail})
	}
	if got := tableRows(t, ch, ctx, s, "conflicts"); !slices.EqualFunc(got, conflicts, slices.Equal) {
		t.Errorf("conflicts table\n got %q\nwant %q", got, conflicts)
	}

	// The SVG charts: bar widths are n × 400 / announced, computed here from the JSON.
	var rpkiBars map[string]int
	if err := ch.Eval(ctx, s, `(function(){var o={};document.querySelectorAll("#rpki-chart rect").forEach(function(r){o[r.id]=r.width.baseVal.value;});return o;})()`, &rpkiBars); err != nil {
		t.Fatal(err)
	}
	n := int(want.Totals["announced"].(float64))
	valid, invalid := int(want.Totals["rpki_valid"].(float64)), int(want.Totals["rpki_invalid"].(float64))
	wantBars := map[string]int{"rpki-valid": valid * 400 / n, "rpki-invalid": invalid * 400 / n}
	wantBars["rpki-not-found"] = 400 - wantBars["rpki-valid"] - wantBars["rpki-invalid"]
	if fmt.Sprint(rpkiBars) != fmt.Sprint(wantBars) {
		t.Errorf("RPKI chart bars %v, want %v", rpkiBars, wantBars)
	}
	var coverage []struct {
		ASN   string `json:"asn"`
		Width int    `json:"width"`
	}
	if err := ch.Eval(ctx, s, `Array.prototype.map.call(document.querySelectorAll("#coverage-chart g"),function(g){
		return {asn:g.getAttribute("data-asn"),width:g.querySelector("rect.bar").width.baseVal.value};})`, &coverage); err != nil {
		t.Fatal(err)
	}
	if len(coverage) != len(want.Origins) {
		t.Fatalf("coverage chart has %d bars, JSON %d origins", len(coverage), len(want.Origins))
	}
	for i, o := range want.Origins {
		covered := int(o["irr_exact"].(float64) + o["irr_covered"].(float64))
		w := covered * 400 / int(o["announced"].(float64))
		if coverage[i].ASN != "AS"+jsonNumber(o["asn"]) || coverage[i].Width != w {
			t.Errorf("coverage bar %d: %+v, want AS%s width %d", i, coverage[i], jsonNumber(o["asn"]), w)
		}
	}

	// A screenshot: the chart colours (the page's #3a7 valid and #c33 invalid fills) are
	// on it, so the SVG was drawn, not only present in the DOM.
	var shot struct {
		Data string `json:"data"`
	}
	if err := ch.Call(ctx, s, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.png"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	colours := map[[3]uint32]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}]++
		}
	}
	if colours[[3]uint32{0x33, 0xaa, 0x77}] < 100 || colours[[3]uint32{0xcc, 0x33, 0x33}] < 100 {
		t.Errorf("screenshot (%dx%d) lacks the chart colours: green %d, red %d pixels", b.Dx(), b.Dy(),
			colours[[3]uint32{0x33, 0xaa, 0x77}], colours[[3]uint32{0xcc, 0x33, 0x33}])
	}

	// Sorting: a real click on a heading runs the page's script.
	comparePrefix := func(a, b []string) int {
		return netip.MustParsePrefix(a[1]).Addr().Compare(netip.MustParsePrefix(b[1]).Addr())*64 +
			netip.MustParsePrefix(a[1]).Bits() - netip.MustParsePrefix(b[1]).Bits()
	}
	asc := slices.Clone(conflicts)
	slices.SortStableFunc(asc, comparePrefix)
	desc := slices.Clone(asc)
	slices.SortStableFunc(desc, func(a, b []string) int { return comparePrefix(b, a) })
	clickHeading(t, ch, ctx, s, "conflicts", 1)
	if got := tableRows(t, ch, ctx, s, "conflicts"); !slices.EqualFunc(got, asc, slices.Equal) {
		t.Errorf("conflicts after one click on prefix\n got %q\nwant %q", got, asc)
	}
	clickHeading(t, ch, ctx, s, "conflicts", 1)
	if got := tableRows(t, ch, ctx, s, "conflicts"); !slices.EqualFunc(got, desc, slices.Equal) {
		t.Errorf("conflicts after two clicks on prefix\n got %q\nwant %q", got, desc)
	}
	byAnnounced := slices.Clone(origins)
	slices.SortStableFunc(byAnnounced, func(a, b []string) int {
		x, _ := strconv.Atoi(a[1])
		y, _ := strconv.Atoi(b[1])
		return x - y
	})
	clickHeading(t, ch, ctx, s, "origins", 1)
	if got := tableRows(t, ch, ctx, s, "origins"); !slices.EqualFunc(got, byAnnounced, slices.Equal) {
		t.Errorf("origins after a click on announced\n got %q\nwant %q", got, byAnnounced)
	}

	// Self-contained: the only request is the page itself; no console error.
	var requests []string
	for _, e := range ch.Events() {
		switch e.Method {
		case "Network.requestWillBeSent":
			var p struct {
				Request struct {
					URL string `json:"url"`
				} `json:"request"`
			}
			json.Unmarshal(e.Params, &p)
			requests = append(requests, p.Request.URL)
		case "Runtime.exceptionThrown":
			t.Errorf("page exception: %s", e.Params)
		case "Runtime.consoleAPICalled":
			var p struct {
				Type string `json:"type"`
			}
			json.Unmarshal(e.Params, &p)
			if p.Type == "error" || p.Type == "warning" {
				t.Errorf("console %s: %s", p.Type, e.Params)
			}
		case "Log.entryAdded":
			var p struct {
				Entry struct {
					Level string `json:"level"`
				} `json:"entry"`
			}
			json.Unmarshal(e.Params, &p)
			if p.Entry.Level == "error" {
				t.Errorf("log error: %s", e.Params)
			}
		}
	}
	if !slices.Equal(requests, []string{url}) {
		t.Errorf("requests made by the page: %q, want only %q", requests, url)
	}
	var resources int
	if err := ch.Eval(ctx, s, `performance.getEntriesByType("resource").length`, &resources); err != nil {
		t.Fatal(err)
	}
	if resources != 0 {
		t.Errorf("the page loaded %d resources", resources)
	}
}

// tableRows returns the text of each body row of the table with that id.
func tableRows(t *testing.T, ch *peer.Chromium, ctx context.Context, s, id string) [][]string {
	t.Helper()
	var rows [][]string
	if err := ch.Eval(ctx, s, `Array.prototype.map.call(document.getElementById("`+id+`").tBodies[0].rows,function(r){
		return Array.prototype.map.call(r.cells,function(c){return c.textContent;});})`, &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// clickHeading clicks the middle of column col's heading of table id, as a mouse does.
func clickHeading(t *testing.T, ch *peer.Chromium, ctx context.Context, s, id string, col int) {
	t.Helper()
	var box struct{ X, Y float64 }
	if err := ch.Eval(ctx, s, fmt.Sprintf(`(function(){var th=document.getElementById(%q).tHead.rows[0].cells[%d];
		th.scrollIntoView();var r=th.getBoundingClientRect();return {X:r.left+r.width/2,Y:r.top+r.height/2};})()`, id, col), &box); err != nil {
		t.Fatal(err)
	}
	if err := ch.Click(ctx, s, box.X, box.Y); err != nil {
		t.Fatal(err)
	}
}

// jsonField renders a JSON report number as the page shows it: the m7 figures with
// two decimals, counts and ASNs as integers.
func jsonField(name string, v any) string {
	if strings.HasPrefix(name, "m7") {
		return strconv.FormatFloat(v.(float64), 'f', 2, 64)
	}
	return jsonNumber(v)
}

func jsonNumber(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatInt(int64(f), 10)
	}
	return fmt.Sprint(v)
}

// TestReportDrops: the filter's per-route verdicts come from the same Evaluate as
// explain. Every origin of the fixture is an RFC 5398 documentation ASN, which the
// default bogon-ASN list holds, so every announced route is dropped by bogon-asn.
func TestReportDrops(t *testing.T) {
	dir := t.TempDir()
	ann := filepath.Join(dir, "ann.pfx2as")
	os.WriteFile(ann, []byte(reportFixtureAnnouncements), 0o644)
	root := peer.RepoRoot(t)
	var out, errb bytes.Buffer
	args := []string{"bgpfilter", "--quiet", "--irr", filepath.Join(root, "examples", "irr"), "report", "AS-EXAMPLE", "--announcements", ann, "--format", "json"}
	if code := Run(context.Background(), args, &out, &errb); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep struct {
		Totals struct {
			Announced int `json:"announced"`
		} `json:"totals"`
		Filter struct {
			Drops []struct {
				Route struct {
					Prefix string `json:"prefix"`
				} `json:"route"`
				Rule string `json:"rule"`
			} `json:"drops"`
		} `json:"filter"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Filter.Drops) != rep.Totals.Announced || rep.Totals.Announced == 0 {
		t.Fatalf("%d drops of %d announced routes", len(rep.Filter.Drops), rep.Totals.Announced)
	}
	for _, d := range rep.Filter.Drops {
		if d.Rule != "bogon-asn" {
			t.Errorf("%s dropped by %s, want bogon-asn", d.Route.Prefix, d.Rule)
		}
	}
}

// TestGenerateReport: generate --report writes one page per customer beside its filters
// and an index page linking them; the page's figures are the report's (announced pairs
// of the customer's origin, counted here from the fixture).
func TestGenerateReport(t *testing.T) {
	dir := t.TempDir()
	root := peer.RepoRoot(t)
	ann := filepath.Join(dir, "ann.pfx2as")
	os.WriteFile(ann, []byte(reportFixtureAnnouncements), 0o644)
	want := 0
	for _, l := range strings.Split(reportFixtureAnnouncements, "\n") {
		if strings.HasSuffix(l, "\t64497") {
			want++
		}
	}
	conf := filepath.Join(dir, "bgpfilter.yml")
	os.WriteFile(conf, []byte(`local_as: 64496
router_id: 192.0.2.1
irr: [`+filepath.Join(root, "examples", "irr")+`]
rpki: `+filepath.Join(root, "examples", "rpki", "vrps.json")+`
defaults:
  targets: [bird, frr]
  bogons: {except_asns: [64496-64511, 65536-65551], except_prefixes: [192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32]}
customers:
  - {name: cust_one, asn: 64497}
`), 0o644)
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	if code := Run(context.Background(), []string{"bgpfilter", "--quiet", "generate", "--config", conf, "--out", out, "--report", "--announcements", ann}, &stdout, &stderr); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	index, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || !strings.Contains(string(index), `<a href="cust_one/report.html">cust_one</a>`) {
		t.Fatalf("index page (%v):\n%s", err, index)
	}
	page, err := os.ReadFile(filepath.Join(out, "cust_one", "report.html"))
	if err != nil || !strings.Contains(string(page), "<title>MANRS readiness: AS64497</title>") {
		t.Fatalf("customer page (%v)", err)
	}
	if !strings.Contains(string(page), fmt.Sprintf("<tr><td>%d</td>", want)) {
		t.Errorf("customer page totals do not show %d announced pairs", want)
	}
	if _, err := os.Stat(filepath.Join(out, "cust_one", "bird.conf")); err != nil {
		t.Errorf("filters not written beside the page: %v", err)
	}
	if code := Run(context.Background(), []string{"bgpfilter", "--quiet", "generate", "--config", conf, "--out", out, "--announcements", ann}, &stdout, &stderr); code != ExitUsage {
		t.Errorf("--announcements without --report: exit %d", code)
	}
}
