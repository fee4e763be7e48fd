from bench import portal, quality_gate

quality_gate.main()
portal.main()
