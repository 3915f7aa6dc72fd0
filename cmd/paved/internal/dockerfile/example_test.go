package dockerfile_test

import (
	"fmt"
	"strings"

	"github.com/paved-road/paved/cmd/paved/internal/dockerfile"
)

func ExampleFile_Final() {
	f, err := dockerfile.Parse(strings.NewReader(`
FROM golang:1.26 AS build
RUN CGO_ENABLED=0 go build -trimpath -o /out/hello .
FROM scratch
ARG VERSION=devel
LABEL org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.title="hello"
COPY --from=build /out/hello /hello
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/hello"]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	img, _ := f.Final(map[string]string{"VERSION": "1.2.3"})
	fmt.Println(len(f.Stages), img.Base, img.User, img.Expose, img.Entrypoint, img.Labels["org.opencontainers.image.version"])
	// Output:
	// 2 scratch 65532:65532 [8080/tcp 9090/tcp] [/hello] 1.2.3
}
