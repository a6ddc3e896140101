package rpki

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// WriteJSON writes the table in rpki-client's JSON layout: "roas" with asn, prefix,
// maxLength and ta, "aspas" with customer_asid and providers (the union of both
// address families), sorted, one entry per line. The output is deterministic and
// loads back with LoadFile. metadata.buildtime is the data's build time (if known).
func (t *Table) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	vrps := t.VRPs()
	aspas := t.ASPAs()
	bw.WriteString("{\n\t\"metadata\": {\n")
	if !t.meta.BuildTime.IsZero() {
		bw.WriteString("\t\t\"buildtime\": \"" + t.meta.BuildTime.UTC().Format(time.RFC3339) + "\",\n")
	}
	bw.WriteString("\t\t\"vrps\": " + strconv.Itoa(len(vrps)) + ",\n\t\t\"aspas\": " + strconv.Itoa(len(aspas)) + "\n\t},\n")
	bw.WriteString("\t\"roas\": [")
	var buf []byte
	quoted := map[string][]byte{}
	for i, v := range vrps {
		buf = buf[:0]
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, "\n\t\t{ \"asn\": "...)
		buf = strconv.AppendUint(buf, uint64(v.ASN), 10)
		buf = append(buf, ", \"prefix\": \""...)
		buf = v.Prefix.AppendTo(buf)
		buf = append(buf, "\", \"maxLength\": "...)
		buf = strconv.AppendUint(buf, uint64(v.MaxLength), 10)
		buf = append(buf, ", \"ta\": "...)
		ta, ok := quoted[v.TA]
		if !ok {
			q, err := json.Marshal(v.TA)
			if err != nil {
				return err
			}
			ta, quoted[v.TA] = q, q
		}
		buf = append(buf, ta...)
		buf = append(buf, " }"...)
		bw.Write(buf)
	}
	if len(vrps) > 0 {
		bw.WriteString("\n\t")
	}
	bw.WriteString("],\n\t\"aspas\": [")
	for i, a := range aspas {
		buf = buf[:0]
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, "\n\t\t{ \"customer_asid\": "...)
		buf = strconv.AppendUint(buf, uint64(a.Customer), 10)
		buf = append(buf, ", \"providers\": ["...)
		for j, p := range a.Providers() {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, ' ')
			buf = strconv.AppendUint(buf, uint64(p), 10)
		}
		buf = append(buf, " ] }"...)
		bw.Write(buf)
	}
	if len(aspas) > 0 {
		bw.WriteString("\n\t")
	}
	bw.WriteString("]\n}\n")
	return bw.Flush()
}
