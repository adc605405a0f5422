package loss

import (
	"fmt"

	"github.com/genq-go/genq/internal/kernel"
	"github.com/genq-go/genq/internal/nn"
	"gorgonia.org/gorgonia"
)

// normEps is the eps of torch.nn.functional.normalize, which util.cos_sim uses.
const normEps = kernel.NormEps

// normalizeRows returns x / max(‖x_i‖₂, eps) row by row for a [B, D] node
// (nn.Normalize: the norm summed in float64, its gradient finite for rows
// of norm zero, as torch masks them).
func normalizeRows(x *gorgonia.Node) (*gorgonia.Node, error) {
	if x.Dims() != 2 {
		return nil, fmt.Errorf("NormalizeRows: input has shape %v, want a [rows, dim] matrix", x.Shape())
	}
	return nn.Normalize(x)
}
