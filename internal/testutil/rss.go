package testutil

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// ResetPeakRSS returns freed memory to the OS and resets the process's
// resident-set high-water mark (Linux's /proc/self/clear_refs), so that
// PeakRSS then measures what follows; it does nothing elsewhere. For
// benchmarks only: it changes process-wide state.
func ResetPeakRSS() {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// PeakRSS returns the process's resident-set high-water mark in bytes
// (VmHWM of /proc/self/status), false where that is not available.
func PeakRSS() (uint64, bool) { return procStatus("VmHWM") }

// RSS returns the process's resident set in bytes (VmRSS), false where that
// is not available.
func RSS() (uint64, bool) { return procStatus("VmRSS") }

func procStatus(field string) (uint64, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// ReportPeakRSS reports PeakRSS as the benchmark metric "peak-RSS-MiB"
// (nothing where it is not available). Call ResetPeakRSS before the work it
// should measure.
func ReportPeakRSS(b *testing.B) {
	if peak, ok := PeakRSS(); ok {
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	}
}
