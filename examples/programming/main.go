// Command programming runs the GenQ recipe end to end on a corpus of passages
// about programming technologies.
package main

func main() {}
