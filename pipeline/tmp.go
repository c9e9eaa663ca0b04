package pipeline

import "os"

func tempDir() string {
	d, err := os.MkdirTemp("", "orders-pipeline-")
	if err != nil {
		return os.TempDir()
	}
	return d
}
