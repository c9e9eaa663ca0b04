// Package awsstub answers AWS SDK calls in tests at the SDK's own middleware
// layer: the client builds, signs and, from the answer given, deserializes as
// usual; only the network round trip is replaced.
package awsstub

import (
	"context"
	"io"
	"net/http"
	"strings"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Answer is the HTTP answer to a request the SDK built and signed.
type Answer func(req *smithyhttp.Request) (status int, header http.Header, body string)

// Responder is an APIOptions entry that answers every call with answer.
func Responder(answer Answer) func(*middleware.Stack) error {
	return CallResponder(func(c Call) (int, http.Header, string) { return answer(c.Request) })
}

// Call is one request as the SDK built and signed it, with the service and
// operation it is for and the operation's input (the caller's struct, e.g.
// *ec2.DescribeAddressesInput), so that a stub can answer by operation and
// parameters without re-parsing every protocol's wire format.
type Call struct {
	Service, Operation string
	Input              any
	Request            *smithyhttp.Request
}

// CallAnswer is the HTTP answer to a Call.
type CallAnswer func(Call) (status int, header http.Header, body string)

type inputKey struct{}

// CallResponder is an APIOptions entry that answers every call with answer. The
// answer still goes through the SDK's own deserializer, as with Responder.
func CallResponder(answer CallAnswer) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("awsstub.Input",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(middleware.WithStackValue(ctx, inputKey{}, in.Parameters), in)
			}), middleware.Before)
		if err != nil {
			return err
		}
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("awsstub.CallResponder",
			func(ctx context.Context, in middleware.DeserializeInput, _ middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				c := Call{
					Service:   awsmiddleware.GetServiceID(ctx),
					Operation: middleware.GetOperationName(ctx),
					Input:     middleware.GetStackValue(ctx, inputKey{}),
					Request:   in.Request.(*smithyhttp.Request),
				}
				status, header, body := answer(c)
				if header == nil {
					header = http.Header{}
				}
				res := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(body))}
				return middleware.DeserializeOutput{RawResponse: &smithyhttp.Response{Response: res}}, middleware.Metadata{}, nil
			}), middleware.After)
	}
}
