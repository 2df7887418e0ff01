from lombardy_districts.cli import main

raise SystemExit(main())
