package kernel

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNoGorgonia requires that the plain-Go packages (this kernel layer,
// internal/gemm, internal/parallel, sampling, search) do not depend on
// gorgonia, directly or through another package: `go list -deps` of each
// must name no gorgonia.org package. Skipped without the go command.
func TestNoGorgonia(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	for _, pkg := range []string{"internal/kernel", "internal/gemm", "internal/parallel", "sampling", "search"} {
		t.Run(pkg, func(t *testing.T) {
			out, err := exec.Command(goCmd, "list", "-deps", "github.com/genq-go/genq/"+pkg).CombinedOutput()
			require.NoError(t, err, "go list: %s", out)
			for _, dep := range strings.Fields(string(out)) {
				require.Falsef(t, strings.HasPrefix(dep, "gorgonia.org/"), "%s depends on %s", pkg, dep)
			}
		})
	}
}
