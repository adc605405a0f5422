package checkpoint

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// shardIndex is the JSON index of a sharded checkpoint
// (model.safetensors.index.json or pytorch_model.bin.index.json).
type shardIndex struct {
	WeightMap map[string]string `json:"weight_map"`
}

// ReadSharded reads a sharded checkpoint from its index file: every shard the
// index's weight_map names is read from the index's folder and the tensors are
// merged. Each tensor the weight_map lists must be in the shard it names, and
// no tensor may appear in two shards.
func ReadSharded(indexPath string) (map[string]*Tensor, error) {
	b, err := os.ReadFile(indexPath)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var idx shardIndex
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: not a shard index: %v", indexPath, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("checkpoint: %s: the shard index has no weight_map entries", indexPath)
	}
	shards := map[string][]string{} // shard file → tensors it must hold
	for name, file := range idx.WeightMap {
		if !filepath.IsLocal(file) || strings.ContainsAny(file, `/\`) {
			return nil, fmt.Errorf("checkpoint: %s: shard %s of tensor %s is not a file name in the index's folder", indexPath, quoted(file), quoted(name))
		}
		shards[file] = append(shards[file], name)
	}
	files := make([]string, 0, len(shards))
	for f := range shards {
		files = append(files, f)
	}
	sort.Strings(files)
	dir := filepath.Dir(indexPath)
	out := map[string]*Tensor{}
	from := map[string]string{}
	for _, f := range files {
		p := filepath.Join(dir, f)
		var m map[string]*Tensor
		if strings.HasSuffix(f, ".safetensors") {
			m, err = ReadSafetensors(p)
		} else {
			m, err = ReadPyTorch(p)
		}
		if err != nil {
			return nil, err
		}
		for _, name := range shards[f] {
			if _, ok := m[name]; !ok {
				return nil, fmt.Errorf("checkpoint: %s maps tensor %s to %s, which does not hold it", indexPath, quoted(name), f)
			}
		}
		for name, t := range m {
			if prev, dup := from[name]; dup {
				return nil, fmt.Errorf("checkpoint: tensor %s is in both shards %s and %s of %s", quoted(name), prev, f, indexPath)
			}
			from[name] = f
			out[name] = t
		}
	}
	return out, nil
}
