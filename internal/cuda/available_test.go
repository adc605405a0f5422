//go:build !cuda

package cuda

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAvailableWithoutTag(t *testing.T) {
	assert.False(t, Built, "Built in a build without the cuda tag")
	assert.False(t, Available(), "Available() in a build without the cuda tag")
}
