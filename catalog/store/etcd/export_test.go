package etcd

// BreakRenewStreams ends the store's lease keep-alive streams as a dropped connection
// would: their receive loops see an error and the next renewal opens new ones.
func BreakRenewStreams(s *Store) {
	for i := range s.renewer.shards {
		sh := &s.renewer.shards[i]
		sh.mu.Lock()
		if sh.ks != nil {
			sh.ks.cancel()
		}
		sh.mu.Unlock()
	}
}

// RenewStreams is how many keep-alive streams a store opens.
const RenewStreams = renewStreams
