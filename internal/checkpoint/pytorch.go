package checkpoint

import "fmt"

// ReadPyTorch reads a pytorch_model.bin written by torch.save (zip format).
func ReadPyTorch(path string) (map[string]*Tensor, error) {
	return nil, fmt.Errorf("checkpoint: %s: pytorch_model.bin reading is not implemented yet", path)
}
