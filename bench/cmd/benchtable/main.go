// Command benchtable turns `benchstat -format csv` output of the bench
// module into a markdown table: the median of each metric for each library,
// and its ratio to the hand-written loop measured in the same run.
//
//	go tool benchstat -format csv raw.txt | go run ./cmd/benchtable
package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// row is one benchmark: group (Success, Retry, …) and library.
type row struct{ group, lib string }

var nameRE = regexp.MustCompile(`^([A-Za-z]+)/(?:lib|clock)=(.+?)(?:-\d+)?$`)

func main() {
	values, units, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if err := write(os.Stdout, values, units); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

// parse reads benchstat's CSV: sections that start with a ",UNIT,CI" line,
// followed by "NAME,MEDIAN,CI" rows.
func parse(r io.Reader) (map[row]map[string]float64, []string, error) {
	values := map[row]map[string]float64{}
	var units []string
	unit := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, ",") {
			continue // goos:, cpu: and the like
		}
		fields, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil || len(fields) < 2 {
			continue
		}
		if fields[0] == "" {
			if fields[1] != "" && !strings.Contains(fields[1], ".txt") {
				unit = fields[1]
				units = append(units, unit)
			}
			continue
		}
		m := nameRE.FindStringSubmatch(fields[0])
		if m == nil || unit == "" {
			continue
		}
		v, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			continue
		}
		k := row{m[1], m[2]}
		if values[k] == nil {
			values[k] = map[string]float64{}
		}
		values[k][unit] = v
	}
	return values, units, sc.Err()
}

func write(w io.Writer, values map[row]map[string]float64, units []string) error {
	groups := map[string][]string{}
	for k := range values {
		groups[k.group] = append(groups[k.group], k.lib)
	}
	order := []string{"Success", "Retry", "Parked", "FakeClock"}
	for _, g := range order {
		libs := groups[g]
		if len(libs) == 0 {
			continue
		}
		sort.Slice(libs, func(i, j int) bool {
			if ri, rj := rank(libs[i]), rank(libs[j]); ri != rj {
				return ri < rj
			}
			return libs[i] < libs[j]
		})
		var cols []string
		for _, u := range units {
			if g == "Parked" && u == "sec/op" {
				continue // the time of a whole park-and-release round, not a metric
			}
			for _, lib := range libs {
				if _, ok := values[row{g, lib}][u]; ok {
					cols = append(cols, u)
					break
				}
			}
		}
		base := values[row{g, "hand-loop"}]
		fmt.Fprintf(w, "\n**%s**\n\n| library |", g)
		for _, u := range cols {
			fmt.Fprintf(w, " %s |", label(u))
			if base != nil && ratioed(u) {
				fmt.Fprint(w, " × hand-loop |")
			}
		}
		fmt.Fprint(w, "\n|---|")
		for _, u := range cols {
			fmt.Fprint(w, "---:|")
			if base != nil && ratioed(u) {
				fmt.Fprint(w, "---:|")
			}
		}
		fmt.Fprintln(w)
		for _, lib := range libs {
			v := values[row{g, lib}]
			fmt.Fprintf(w, "| %s |", lib)
			for _, u := range cols {
				x, ok := v[u]
				if !ok {
					fmt.Fprint(w, " |")
					if base != nil && ratioed(u) {
						fmt.Fprint(w, " |")
					}
					continue
				}
				fmt.Fprintf(w, " %s |", format(u, x))
				if base != nil && ratioed(u) {
					if b := base[u]; b > 0 {
						fmt.Fprintf(w, " %.2f× |", x/b)
					} else {
						fmt.Fprint(w, " |")
					}
				}
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

// rank puts the baselines first and this library next.
func rank(lib string) int {
	switch {
	case lib == "bare-call":
		return 0
	case lib == "hand-loop":
		return 1
	case strings.HasPrefix(lib, "voxpersona-retry"):
		return 2
	}
	return 3
}

func ratioed(unit string) bool { return unit == "sec/op" || strings.Contains(unit, "release") }

func label(unit string) string {
	switch unit {
	case "sec/op":
		return "ns/op"
	case "sec/release":
		return "release of 10,000 (ms)"
	}
	return unit
}

func format(unit string, x float64) string {
	switch {
	case unit == "sec/op":
		return strconv.FormatFloat(x*1e9, 'f', 1, 64)
	case unit == "sec/release":
		return strconv.FormatFloat(x*1e3, 'f', 2, 64)
	case strings.HasPrefix(unit, "ns/"):
		return strconv.FormatFloat(x/1e6, 'f', 2, 64) + " ms"
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}
