package cuda

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Kernels is one PTX module: the text nvcc wrote for one .cu file and the
// kernels (PTX entry points) it holds.
type Kernels struct {
	// Module is the file name without its .ptx extension, e.g. "elembinop".
	// gorgonia looks kernels up as Module + "." + entry, e.g.
	// "elembinop.mul_vv_f32".
	Module string
	// PTX is the module's PTX text.
	PTX string
	// Entries are the names of the module's kernels, in file order.
	Entries []string
}

// EntryNames returns the names of the kernels declared in PTX text: every
// function declared with the .entry directive, in the order they appear.
func EntryNames(ptx string) []string {
	var names []string
	sc := bufio.NewScanner(strings.NewReader(ptx))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, f := range fields {
			if f != ".entry" || i+1 >= len(fields) {
				continue
			}
			name, _, _ := strings.Cut(fields[i+1], "(")
			if name != "" {
				names = append(names, name)
			}
			break
		}
	}
	return names
}

// ReadKernels reads every *.ptx file in dir, in name order. The files are
// gorgonia's kernel sources ("cuda modules/src/*.cu" in the gorgonia module)
// compiled by nvcc -ptx; .ci/gpu/run.sh makes them on the GPU machine.
func ReadKernels(dir string) ([]Kernels, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.ptx"))
	if err != nil {
		return nil, fmt.Errorf("cuda: listing PTX files in %q: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("cuda: no .ptx files in %q: compile gorgonia's \"cuda modules/src/*.cu\" with `nvcc -ptx` into that folder first", dir)
	}
	sort.Strings(paths)
	mods := make([]Kernels, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("cuda: reading PTX module: %w", err)
		}
		entries := EntryNames(string(data))
		if len(entries) == 0 {
			return nil, fmt.Errorf("cuda: %q declares no kernel (.entry): is it PTX written by nvcc -ptx?", p)
		}
		mods = append(mods, Kernels{
			Module:  strings.TrimSuffix(filepath.Base(p), ".ptx"),
			PTX:     string(data),
			Entries: entries,
		})
	}
	return mods, nil
}
