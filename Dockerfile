# The application image: one image, three roles (api, worker, migrate), chosen by the command.
# NODE_IMAGE: docker-compose.local-images.yml builds on contacts-local/node:20 where Docker Hub is out of reach.
ARG NODE_IMAGE=node:20-bookworm-slim
FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production CHECKPOINT_DISABLE=1
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --include=dev
COPY . .
RUN npm run generate
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "api/server.ts"]
