using Actors.Dashboard;

return await DashboardProgram.RunAsync(args, Console.Out, Console.Error);
