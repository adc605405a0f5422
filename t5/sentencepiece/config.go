package sentencepiece

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/genq-go/genq/internal/tokenutil"
)

// hfConfig is what the HuggingFace tokenizer files around spiece.model say:
// tokenizer_config.json, special_tokens_map.json and added_tokens.json.
type hfConfig struct {
	eos, unk, pad      string
	additional         []string // additional_special_tokens; nil: not given
	extraIDs           int
	cleanUp            bool
	addPrefixSpace     bool
	legacy             bool
	addedDecoder       map[int]addedToken // added_tokens_decoder; nil: not given
	addedTokensFile    map[string]int     // added_tokens.json; nil: absent
	hasAddedDecoderKey bool
}

// defaultExtraIDs is T5Tokenizer's extra_ids: the number of <extra_id_N> sentinels.
const defaultExtraIDs = 100

func defaultHFConfig() hfConfig {
	return hfConfig{eos: "</s>", unk: "<unk>", pad: "<pad>", extraIDs: defaultExtraIDs, cleanUp: true, addPrefixSpace: true, legacy: true}
}

// tokenValue is a special token in a HF config: a string, or an object with a
// "content" field (AddedToken serialized).
type tokenValue string

func (v *tokenValue) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = tokenValue(s)
		return nil
	}
	var o struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return fmt.Errorf("a special token must be a string or an object with \"content\": %w", err)
	}
	*v = tokenValue(o.Content)
	return nil
}

// addedTokenJSON is an AddedToken as tokenizer_config.json's
// added_tokens_decoder and tokenizer.json's added_tokens write it.
type addedTokenJSON struct {
	ID         *int   `json:"id"`
	Content    string `json:"content"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	SingleWord bool   `json:"single_word"`
	Special    bool   `json:"special"`
}

func (a addedTokenJSON) token(id int) addedToken {
	return addedToken{content: a.Content, id: id, lstrip: a.LStrip, rstrip: a.RStrip, singleWord: a.SingleWord, special: a.Special}
}

type tokenizerConfigJSON struct {
	EOS                *tokenValue               `json:"eos_token"`
	UNK                *tokenValue               `json:"unk_token"`
	PAD                *tokenValue               `json:"pad_token"`
	Additional         []tokenValue              `json:"additional_special_tokens"`
	ExtraIDs           *int                      `json:"extra_ids"`
	CleanUp            *bool                     `json:"clean_up_tokenization_spaces"`
	AddPrefixSpace     *bool                     `json:"add_prefix_space"`
	Legacy             *bool                     `json:"legacy"`
	AddedTokensDecoder map[string]addedTokenJSON `json:"added_tokens_decoder"`
}

// readHFConfig reads the optional HuggingFace tokenizer files in dir.
func readHFConfig(dir string) (hfConfig, error) {
	files, err := tokenutil.ReadConfigFiles(dir)
	if err != nil {
		return defaultHFConfig(), err
	}
	return parseHFConfig(files[0], files[1], files[2])
}

// parseHFConfig reads tokenizer_config.json, special_tokens_map.json and
// added_tokens.json over T5Tokenizer's defaults.
func parseHFConfig(tokConfig, specialMap, addedFile tokenutil.ConfigFile) (hfConfig, error) {
	c := defaultHFConfig()
	var tc tokenizerConfigJSON
	if _, err := tokConfig.Decode(&tc); err != nil {
		return c, err
	}
	var sm tokenizerConfigJSON // special_tokens_map.json has the same keys
	if _, err := specialMap.Decode(&sm); err != nil {
		return c, err
	}
	pick := func(dst *string, vals ...*tokenValue) {
		for _, v := range vals {
			if v != nil {
				*dst = string(*v)
				return
			}
		}
	}
	pick(&c.eos, tc.EOS, sm.EOS)
	pick(&c.unk, tc.UNK, sm.UNK)
	pick(&c.pad, tc.PAD, sm.PAD)
	add := tc.Additional
	if add == nil {
		add = sm.Additional
	}
	if add != nil {
		c.additional = make([]string, len(add))
		for i, a := range add {
			c.additional[i] = string(a)
		}
	}
	if tc.ExtraIDs != nil {
		c.extraIDs = *tc.ExtraIDs
	}
	if tc.CleanUp != nil {
		c.cleanUp = *tc.CleanUp
	}
	if tc.AddPrefixSpace != nil {
		c.addPrefixSpace = *tc.AddPrefixSpace
	}
	if tc.Legacy != nil {
		c.legacy = *tc.Legacy
	}
	if tc.AddedTokensDecoder != nil {
		c.hasAddedDecoderKey = true
		c.addedDecoder = map[int]addedToken{}
		for k, a := range tc.AddedTokensDecoder {
			id, err := strconv.Atoi(k)
			if err != nil {
				return c, fmt.Errorf("tokenizer_config.json: added_tokens_decoder key %q is not an integer id", k)
			}
			c.addedDecoder[id] = a.token(id)
		}
	}
	var at map[string]int
	if ok, err := addedFile.Decode(&at); err != nil {
		return c, err
	} else if ok {
		c.addedTokensFile = at
	}
	return c, nil
}
