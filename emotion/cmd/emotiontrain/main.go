// Command emotiontrain rebuilds the shipped emotion models from the public
// data sets:
//
//	go run ./emotion/cmd/emotiontrain -data ../shared/data -out emotion/models
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"

	"github.com/starpost/starpost/emotion"
)

func main() {
	data := flag.String("data", "../shared/data", "folder of the public data sets")
	out := flag.String("out", "emotion/models", "folder to write the model files to")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := emotion.Train(ctx, *data, *out, os.Stderr); err != nil {
		log.Fatal(err)
	}
}
