package producer

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/blackfriday-operator/go-services/proto"
)

func TestRecordCarriesKeyValueAndHeaders(t *testing.T) {
	req := &pb.ProductSaleRequest{Categoria: pb.CategoriaProducto_Belleza, ProductoId: "BEL-001", Precio: 129.99, CantidadVendida: 3}
	at := time.UnixMilli(1700000000123)
	r, err := Record(req, "id-1", "grpc-server-2", at)
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Key) != "BEL-001" {
		t.Errorf("key %q", r.Key)
	}
	var back pb.ProductSaleRequest
	if err := proto.Unmarshal(r.Value, &back); err != nil || !proto.Equal(&back, req) {
		t.Errorf("value %v %v", &back, err)
	}
	for k, want := range map[string]string{"sale-id": "id-1", "accepted-at": "1700000000123", "writer": "grpc-server-2"} {
		if got := Header(r, k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
}
