from bench import quality_gate

quality_gate.main()
