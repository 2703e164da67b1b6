from segstudio.launcher import main

raise SystemExit(main())
