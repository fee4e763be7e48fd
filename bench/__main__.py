from bench import quality_gate, sharing

quality_gate.main()
sharing.main()
