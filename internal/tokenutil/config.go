package tokenutil

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ConfigNames are the optional settings files of a HF tokenizer folder, in
// the order ReadConfigFiles returns them.
var ConfigNames = [3]string{"tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"}

// ConfigFile is one optional JSON file of a tokenizer folder: its path, for
// errors, and its bytes (nil when the folder has no such file).
type ConfigFile struct {
	Path string
	Data []byte
}

// ReadConfigFiles reads the ConfigNames files of dir; a missing one has nil
// Data. An error is os.ReadFile's, which names the file.
func ReadConfigFiles(dir string) ([3]ConfigFile, error) {
	var files [3]ConfigFile
	for i, name := range ConfigNames {
		files[i].Path = filepath.Join(dir, name)
		data, err := os.ReadFile(files[i].Path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return files, err
		}
		files[i].Data = data
	}
	return files, nil
}

// Decode decodes the file into v and reports whether there is a file: a
// missing one leaves v untouched. The error is "PATH: what json said".
func (f ConfigFile) Decode(v any) (bool, error) {
	if f.Data == nil {
		return false, nil
	}
	if err := json.Unmarshal(f.Data, v); err != nil {
		return true, fmt.Errorf("%s: %w", f.Path, err)
	}
	return true, nil
}
