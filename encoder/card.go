package encoder

import (
	"fmt"
	"strings"
)

// modelCard renders the README.md that SentenceTransformer.save (2.7) writes
// for a model without a name: usage snippets, then the module architecture.
func (m *Model) modelCard() string {
	var arch strings.Builder
	arch.WriteString("SentenceTransformer(\n")
	fmt.Fprintf(&arch, "  (0): Transformer({'max_seq_length': %d, 'do_lower_case': %s}) with Transformer model: %s \n",
		m.maxSeqLen, pyBool(m.lowerCase), m.architecture())
	p := m.pooling
	fmt.Fprintf(&arch, "  (1): Pooling({'word_embedding_dimension': %d, 'pooling_mode_cls_token': %s, "+
		"'pooling_mode_mean_tokens': %s, 'pooling_mode_max_tokens': %s, 'pooling_mode_mean_sqrt_len_tokens': %s, "+
		"'pooling_mode_weightedmean_tokens': %s, 'pooling_mode_lasttoken': %s, 'include_prompt': %s})\n",
		p.WordEmbeddingDimension, pyBool(p.CLSToken), pyBool(p.MeanTokens), pyBool(p.MaxTokens),
		pyBool(p.MeanSqrtLenTokens), pyBool(p.WeightedMeanTokens), pyBool(p.LastToken), pyBool(p.IncludePrompt))
	if m.normalize {
		arch.WriteString("  (2): Normalize()\n")
	}
	arch.WriteString(")")
	return fmt.Sprintf(cardHead, m.Dim()) + arch.String() + cardTail
}

// architecture is the transformers class sentence-transformers names.
func (m *Model) architecture() string {
	if m.cfg.ModelType == "bert" {
		return "BertModel"
	}
	return "DistilBertModel"
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// cardHead and cardTail surround the architecture in the model card.
var (
	cardHead = `---
library_name: sentence-transformers
pipeline_tag: sentence-similarity
tags:
- sentence-transformers
- feature-extraction
- sentence-similarity
- transformers

---

# {MODEL_NAME}

This is a [sentence-transformers](https://www.SBERT.net) model: It maps sentences & paragraphs to a %d dimensional dense vector space and can be used for tasks like clustering or semantic search.

<!--- Describe your model here -->

## Usage (Sentence-Transformers)

Using this model becomes easy when you have [sentence-transformers](https://www.SBERT.net) installed:

` + "`" + `` + "`" + `` + "`" + `
pip install -U sentence-transformers
` + "`" + `` + "`" + `` + "`" + `

Then you can use the model like this:

` + "`" + `` + "`" + `` + "`" + `python
from sentence_transformers import SentenceTransformer
sentences = ["This is an example sentence", "Each sentence is converted"]

model = SentenceTransformer('{MODEL_NAME}')
embeddings = model.encode(sentences)
print(embeddings)
` + "`" + `` + "`" + `` + "`" + `



## Usage (HuggingFace Transformers)
Without [sentence-transformers](https://www.SBERT.net), you can use the model like this: First, you pass your input through the transformer model, then you have to apply the right pooling-operation on-top of the contextualized word embeddings.

` + "`" + `` + "`" + `` + "`" + `python
from transformers import AutoTokenizer, AutoModel
import torch


#Mean Pooling - Take attention mask into account for correct averaging
def mean_pooling(model_output, attention_mask):
    token_embeddings = model_output[0] #First element of model_output contains all token embeddings
    input_mask_expanded = attention_mask.unsqueeze(-1).expand(token_embeddings.size()).float()
    return torch.sum(token_embeddings * input_mask_expanded, 1) / torch.clamp(input_mask_expanded.sum(1), min=1e-9)


# Sentences we want sentence embeddings for
sentences = ['This is an example sentence', 'Each sentence is converted']

# Load model from HuggingFace Hub
tokenizer = AutoTokenizer.from_pretrained('{MODEL_NAME}')
model = AutoModel.from_pretrained('{MODEL_NAME}')

# Tokenize sentences
encoded_input = tokenizer(sentences, padding=True, truncation=True, return_tensors='pt')

# Compute token embeddings
with torch.no_grad():
    model_output = model(**encoded_input)

# Perform pooling. In this case, mean pooling.
sentence_embeddings = mean_pooling(model_output, encoded_input['attention_mask'])

print("Sentence embeddings:")
print(sentence_embeddings)
` + "`" + `` + "`" + `` + "`" + `



## Evaluation Results

<!--- Describe how your model was evaluated -->

For an automated evaluation of this model, see the *Sentence Embeddings Benchmark*: [https://seb.sbert.net](https://seb.sbert.net?model_name={MODEL_NAME})



## Full Model Architecture
` + "```\n"
	cardTail = "\n```" + `

## Citing & Authors

<!--- Describe where people can find more information -->`
)
