module sovereignfaas.local/k3s-standin

go 1.26
