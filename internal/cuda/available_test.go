//go:build !cuda

package cuda

import "testing"

func TestAvailableWithoutTag(t *testing.T) {
	if Built || Available() {
		t.Fatalf("Built = %v, Available() = %v in a build without the cuda tag; want false, false", Built, Available())
	}
}
