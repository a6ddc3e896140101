package irr

import (
	"bytes"
	"encoding/binary"
	"os"
	"sort"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/synth"
)

// originSectionsRef is the straightforward form of the route tables of sections (one
// map lookup per origin, an index slice sorted with sort.Slice per origin), the code
// sections had before it was sized and sorted once: the reference it must equal byte
// for byte, so that snapshots do not change.
func originSectionsRef(s *source) (tabs, routes [2][]byte, refs []byte) {
	for f := range s.origin {
		n := 0
		for _, a := range sortedKeys(s.origin[f]) {
			o := s.origin[f][a]
			tabs[f] = binary.LittleEndian.AppendUint32(tabs[f], uint32(a))
			tabs[f] = binary.LittleEndian.AppendUint32(tabs[f], uint32(n))
			tabs[f] = binary.LittleEndian.AppendUint32(tabs[f], uint32(len(o.keys)))
			n += len(o.keys)
			idx := make([]int, len(o.keys))
			for i := range idx {
				idx[i] = i
			}
			sort.Slice(idx, func(i, j int) bool { return comparePKey(o.keys[idx[i]], o.keys[idx[j]]) < 0 })
			for _, i := range idx {
				routes[f] = appendKey(routes[f], o.keys[i])
				refs = appendRef(refs, o.refs[i])
			}
		}
	}
	return tabs, routes, refs
}

// TestOriginSectionsMatchReference: the route tables of the synthetic registry, the
// edge fixture and the multi-origin fixture equal the reference's.
func TestOriginSectionsMatchReference(t *testing.T) {
	var b bytes.Buffer
	if err := synth.Write(&b, synth.Params{ASNs: 300, Routes: 20000, V6Routes: 3000, SubSets: 5}); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/synth.db"
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, paths := range [][]string{{path}, {"testdata/edge.db", multiDB}} {
		ix, _, err := Load(t.Context(), paths, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range ix.srcs {
			got := s.sections()
			tabs, routes, refs := originSectionsRef(s)
			for f := range 2 {
				if !bytes.Equal(got[secOrigin4+2*f], tabs[f]) || !bytes.Equal(got[secRoutes4+2*f], routes[f]) {
					t.Errorf("%v source %s family %d: origin or route table differs from the reference", paths, name, f)
				}
			}
			if !bytes.Equal(got[secRefs], refs) {
				t.Errorf("%v source %s: route text references differ from the reference", paths, name)
			}
		}
	}
}
