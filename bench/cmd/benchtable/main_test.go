package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
,raw.txt,
,sec/op,CI
Success/lib=hand-loop-2,4e-09,∞
Success/lib=voxpersona-retry-2,1.2e-08,∞
Success/lib=other-2,8e-08,∞
geomean,1e-08,

,raw.txt,
,allocs/op,CI
Success/lib=hand-loop-2,0,∞
Success/lib=voxpersona-retry-2,0,∞
Success/lib=other-2,3,∞
`

func TestTable(t *testing.T) {
	values, units, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := write(&out, values, units); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| library | ns/op | × hand-loop | allocs/op |",
		"| hand-loop | 4.0 | 1.00× | 0 |",
		"| voxpersona-retry | 12.0 | 3.00× | 0 |",
		"| other | 80.0 | 20.00× | 3 |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if i, j := strings.Index(out.String(), "| voxpersona-retry"), strings.Index(out.String(), "| other"); i > j {
		t.Errorf("this library should come right after the baselines:\n%s", out.String())
	}
}
