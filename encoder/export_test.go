package encoder

// AllClose lets the external tests share the package tests' comparison.
var AllClose = allClose
