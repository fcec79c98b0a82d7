package grpcstatus_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/blackfriday-operator/go-services/internal/grpcstatus"
	"github.com/blackfriday-operator/go-services/internal/sale"
	pb "github.com/blackfriday-operator/go-services/proto"
)

func TestInvalidArgumentRoundTripsFields(t *testing.T) {
	err := sale.Validate(&pb.ProductSaleRequest{Categoria: 0, ProductoId: "ok", Precio: 0, CantidadVendida: 1})
	st, _ := status.FromError(grpcstatus.InvalidArgument(err))
	if st.Code() != codes.InvalidArgument {
		t.Fatal(st)
	}
	if want := "the sale has 2 invalid fields: categoria " + sale.RuleCategoria + "; precio " + sale.RulePositive; st.Message() != want {
		t.Errorf("message %q", st.Message())
	}
	got := grpcstatus.Fields(st)
	if len(got) != 2 || got[0] != (sale.FieldError{Field: "categoria", Rule: sale.RuleCategoria}) || got[1] != (sale.FieldError{Field: "precio", Rule: sale.RulePositive}) {
		t.Errorf("fields %v", got)
	}
}
