Console.WriteLine("gatekeeper");
