// Package awsstub answers AWS SDK calls in tests at the SDK's own middleware
// layer: the client builds, signs and, from the answer given, deserializes as
// usual; only the network round trip is replaced.
package awsstub

import (
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Answer is the HTTP answer to a request the SDK built and signed.
type Answer func(req *smithyhttp.Request) (status int, header http.Header, body string)

// Responder is an APIOptions entry that answers every call with answer.
func Responder(answer Answer) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("awsstub.Responder",
			func(ctx context.Context, in middleware.DeserializeInput, _ middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				status, header, body := answer(in.Request.(*smithyhttp.Request))
				if header == nil {
					header = http.Header{}
				}
				res := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(body))}
				return middleware.DeserializeOutput{RawResponse: &smithyhttp.Response{Response: res}}, middleware.Metadata{}, nil
			}), middleware.After)
	}
}
