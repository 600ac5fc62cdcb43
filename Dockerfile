# Multi-stage build: the SDK image builds, the runtime image runs.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Durable.Server/Durable.Server.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0
WORKDIR /app
COPY --from=build /app .
COPY durable.conf /etc/durable/durable.conf
VOLUME /data
EXPOSE 6379
ENTRYPOINT ["./durable-server", "/etc/durable/durable.conf", "--bind", "0.0.0.0", "--dir", "/data"]
