package metrics

import (
	"bytes"
	"math"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parse reads r's output with Prometheus's own text parser (an independent
// implementation of the format: what a Prometheus server scraping us runs).
func parse(t *testing.T, r *Registry) map[string]*dto.MetricFamily {
	t.Helper()
	var b bytes.Buffer
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("Prometheus's parser refuses our output: %v\n%s", err, b.String())
	}
	return mfs
}

func TestFormatParsedByPrometheus(t *testing.T) {
	r := NewRegistry()
	c := r.NewCounter("x_total", "A counter with a \\ backslash\nand a newline.")
	g := r.NewGauge("x_open", "A gauge.")
	cv := r.NewCounterVec("x_queries_total", "By type.", "type")
	hv := r.NewHistogramVec("x_seconds", "Durations.", "type", []float64{0.001, 0.01, 1})
	r.Func("x_func", func(e *Emitter) {
		e.Emit("x_flows_total", "Flows.", TypeCounter, "customer", "b", 2)
		e.Emit("x_flows_total", "Flows.", TypeCounter, "customer", `a "quoted"\ one`+"\n", 1)
		e.Emit("x_templates", "Templates.", TypeGauge, "", "", 7)
	})
	c.Inc()
	c.Add(2.5)
	c.Add(-1) // ignored
	g.Inc()
	g.Inc()
	g.Dec()
	g.Add(0.5)
	cv.WithLabelValues("routes").Inc()
	cv.WithLabelValues("routes").Inc()
	cv.WithLabelValues("invalid")
	h := hv.WithLabelValues("routes")
	for _, v := range []float64{0.0005, 0.001, 0.002, 0.5, 3} {
		h.Observe(v)
	}
	hv.WithLabelValues("empty")

	mfs := parse(t, r)
	if got := mfs["x_total"].GetMetric()[0].GetCounter().GetValue(); got != 3.5 {
		t.Errorf("counter %v, want 3.5", got)
	}
	if got := mfs["x_total"].GetHelp(); got != "A counter with a \\ backslash\nand a newline." {
		t.Errorf("help %q", got)
	}
	if got := mfs["x_open"].GetMetric()[0].GetGauge().GetValue(); got != 1.5 {
		t.Errorf("gauge %v, want 1.5", got)
	}
	vals := map[string]float64{}
	for _, m := range mfs["x_queries_total"].GetMetric() {
		vals[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
	}
	if vals["routes"] != 2 || vals["invalid"] != 0 || len(vals) != 2 {
		t.Errorf("counter vec %v", vals)
	}
	if mfs["x_seconds"].GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("histogram type %v", mfs["x_seconds"].GetType())
	}
	for _, m := range mfs["x_seconds"].GetMetric() {
		hist := m.GetHistogram()
		switch m.GetLabel()[0].GetValue() {
		case "routes":
			if hist.GetSampleCount() != 5 || math.Abs(hist.GetSampleSum()-3.5035) > 1e-12 {
				t.Errorf("count %d sum %v", hist.GetSampleCount(), hist.GetSampleSum())
			}
			want := []uint64{2, 3, 4, 5} // le 0.001 (inclusive), 0.01, 1, +Inf
			for i, b := range hist.GetBucket() {
				if b.GetCumulativeCount() != want[i] {
					t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want[i])
				}
			}
		case "empty":
			if hist.GetSampleCount() != 0 || len(hist.GetBucket()) != 4 {
				t.Errorf("empty histogram %v", hist)
			}
		default:
			t.Errorf("unexpected label %v", m.GetLabel())
		}
	}
	flows := map[string]float64{}
	for _, m := range mfs["x_flows_total"].GetMetric() {
		flows[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
	}
	if flows["b"] != 2 || flows[`a "quoted"\ one`+"\n"] != 1 {
		t.Errorf("func family %v", flows)
	}
	if got := mfs["x_templates"].GetMetric()[0].GetGauge().GetValue(); got != 7 {
		t.Errorf("func gauge %v", got)
	}
}

// TestOutputDeterministic: families by name, samples by label value, whatever the
// order of creation or of a Func's emissions.
func TestOutputDeterministic(t *testing.T) {
	build := func(order []string) string {
		r := NewRegistry()
		cv := r.NewCounterVec("b_total", "B.", "k")
		r.NewGauge("a_g", "A.")
		r.Func("c", func(e *Emitter) {
			for _, o := range order {
				e.Emit("c_total", "C.", TypeCounter, "k", o, 1)
			}
		})
		for _, o := range order {
			cv.WithLabelValues(o).Inc()
		}
		var b strings.Builder
		r.WriteTo(&b)
		return b.String()
	}
	x, y := build([]string{"z", "a", "m"}), build([]string{"m", "z", "a"})
	if x != y {
		t.Fatalf("output depends on order:\n%s\n%s", x, y)
	}
	if !strings.HasPrefix(x, "# HELP a_g ") || strings.Index(x, `b_total{k="a"}`) > strings.Index(x, `b_total{k="z"}`) {
		t.Errorf("not sorted:\n%s", x)
	}
}

func TestHandler(t *testing.T) {
	r := NewRegistry()
	r.NewCounter("h_total", "H.").Inc()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); ct != ContentType {
		t.Errorf("content type %q", ct)
	}
	if !strings.Contains(rec.Body.String(), "\nh_total 1\n") {
		t.Errorf("body %q", rec.Body.String())
	}
	// expfmt recognises the content type as the text format.
	if f := expfmt.ResponseFormat(rec.Header()); f.FormatType() != expfmt.TypeTextPlain {
		t.Errorf("Prometheus reads our content type as %v", f)
	}
}

func TestConcurrentUpdates(t *testing.T) {
	r := NewRegistry()
	cv := r.NewCounterVec("p_total", "P.", "k")
	hv := r.NewHistogramVec("p_seconds", "P.", "k", []float64{1})
	g := r.NewGauge("p_g", "P.")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				cv.WithLabelValues("x").Inc()
				hv.WithLabelValues("x").Observe(0.5)
				g.Add(1)
				g.Add(-1)
				if j%100 == 0 {
					r.WriteTo(&bytes.Buffer{})
				}
			}
		}()
	}
	wg.Wait()
	mfs := parse(t, r)
	if v := mfs["p_total"].GetMetric()[0].GetCounter().GetValue(); v != 8000 {
		t.Errorf("counter %v", v)
	}
	if n := mfs["p_seconds"].GetMetric()[0].GetHistogram().GetSampleCount(); n != 8000 {
		t.Errorf("histogram count %v", n)
	}
	if v := mfs["p_g"].GetMetric()[0].GetGauge().GetValue(); v != 0 {
		t.Errorf("gauge %v", v)
	}
}

func TestBadRegistrations(t *testing.T) {
	for name, f := range map[string]func(r *Registry){
		"duplicate":  func(r *Registry) { r.NewCounter("d", ""); r.NewGauge("d", "") },
		"bad name":   func(r *Registry) { r.NewCounter("1x", "") },
		"le label":   func(r *Registry) { r.NewHistogramVec("h", "", "le", nil) },
		"unsorted":   func(r *Registry) { r.NewHistogramVec("h", "", "k", []float64{2, 1}) },
		"bad label":  func(r *Registry) { r.NewCounterVec("c", "", "a-b") },
		"empty name": func(r *Registry) { r.NewGauge("", "") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f(NewRegistry())
		})
	}
}

// TestInconsistentFunc: a Func that emits one family with two types writes a comment,
// not an invalid exposition.
func TestInconsistentFunc(t *testing.T) {
	r := NewRegistry()
	r.Func("f", func(e *Emitter) {
		e.Emit("f_total", "F.", TypeCounter, "", "", 1)
		e.Emit("f_total", "F.", TypeGauge, "", "", 1)
	})
	if mfs := parse(t, r); len(mfs) != 0 {
		t.Errorf("families %v", mfs)
	}
}
